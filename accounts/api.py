from django.contrib.auth import authenticate
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from recognition.api import ERRORS

from . import selectors
from .models import Organization, User


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})

    def validate(self, attrs):
        # The plain HttpRequest, so that django-axes counts failures and locks out as on the log-in page.
        request = self.context["request"]._request
        user = authenticate(request, username=attrs["email"], password=attrs["password"])
        if user is None:
            raise serializers.ValidationError(
                gettext("Unable to log in with that e-mail address and password."), code="authorization"
            )
        attrs["user"] = user
        return attrs


class ObtainTokenView(APIView):
    """Exchange an e-mail address and password for the user's API token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong e-mail address or password"),
            429: OpenApiResponse(description="Too many attempts (see Retry-After)"),
            503: OpenApiResponse(description="Unavailable for a moment (see Retry-After)"),
        },
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


class MemberSerializer(serializers.ModelSerializer):
    suspended = serializers.BooleanField(source="is_suspended", read_only=True)

    class Meta:
        model = User
        fields = ("id", "email", "full_name", "is_org_admin", "suspended", "suspended_at")


class OrganizationSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ("name", "auto_accept_threshold", "members")

    @extend_schema_field(MemberSerializer(many=True))
    def get_members(self, organization):
        return MemberSerializer(selectors.members_of(organization), many=True).data


class OfficialsOnlyMixin:
    """For API views of bank officials: anybody else gets 404, as if there were nothing here."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not selectors.is_official(request.user):
            raise NotFound()


class OrganizationView(OfficialsOnlyMixin, APIView):
    """Your organization and its officials (bank officials only)."""

    @extend_schema(responses={200: OrganizationSerializer, 401: ERRORS[401], 404: ERRORS[404]})
    def get(self, request):
        return Response(OrganizationSerializer(request.user.organization).data)
