# Two commands: `make run` starts the platform, `make test` runs the whole suite.
# Both create the virtualenv and install the pinned requirements first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test install browser messages superuser check-deploy clean

$(INSTALLED): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(INSTALLED)

run: install messages
	$(BIN)/python -m digitsite.stack run

# Two processes (pytest-xdist), each with its own test database and Redis database: most of the slow tests wait
# on workers, servers and restarts rather than on the CPU.
test: install browser messages
	$(BIN)/python -m digitsite.stack test --numprocesses 2 --dist worksteal

# Translations: the .po catalogs in locale/ are compiled (.mo, not committed) with GNU gettext's msgfmt.
# After changing marked text: $(BIN)/python manage.py makemessages [-d djangojs] -l ta -l hi --ignore=.venv --ignore=var
messages: install
	@if ! command -v msgfmt >/dev/null && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		echo "Installing GNU gettext for the translations"; \
		apt-get install -y -q gettext >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q gettext >/dev/null); \
	fi
	$(BIN)/python manage.py compilemessages --ignore=$(VENV) >/dev/null

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
			echo "Installing Debian's chromium for the browser tests"; \
			apt-get install -y -q chromium >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null); \
		else \
			echo "No $(CHROMIUM): install Chromium (e.g. 'sudo apt-get install chromium') for the browser tests, or set CHROMIUM=path."; \
		fi; \
	fi

superuser: install
	$(BIN)/python manage.py createsuperuser

check-deploy: install
	DIGITS_ENV=production SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
		ALLOWED_HOSTS=digits.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var
