"""Settings from the environment (ONBOARDFLOW_ prefix) or a .env file, checked at start-up."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/onboardflow.db"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONBOARDFLOW_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite:///path/to.db for the embedded store, postgresql://user@host/db for production",
    )
    journeys_dir: str = Field(default="journeys", description="Where `init` writes the example journeys")
    batch_size: int = Field(default=1000, ge=1, le=50_000)
    sms_segment_limit: int = Field(
        default=3, ge=1, le=10, description="Warn when an SMS is sent as more segments than this"
    )

    # consent and compliance
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where people reach this server: the base of unsubscribe and preference links",
    )
    sender_name: str = Field(default="our shop", description="Who the unsubscribe and preference pages name")
    unsubscribe_secret: SecretStr | None = Field(
        default=None,
        description="Signs unsubscribe and preference links (HMAC-SHA256). Keep it stable: a new secret "
        "makes every link already sent invalid",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="A bearer token with every API scope, for bootstrapping and operators; unset, only "
        "API keys (`onboardflow apikey create`) open the API",
    )
    api_key_cache_seconds: float = Field(
        default=10.0, ge=0, le=300,
        description="How long the server trusts what it read of a key: a key revoked by the CLI stops "
        "working within this time",
    )
    max_body_bytes: int = Field(
        default=1 << 20, ge=1024,
        description="The largest request body taken (413 past it), but for the batch routes below",
    )
    max_batch_body_bytes: int = Field(
        default=5 << 20, ge=1024,
        description="The largest body of POST /v1/events/batch, /v1/segment and the store webhooks",
    )
    shopify_webhook_secret: SecretStr | None = Field(
        default=None,
        description="The app's client secret that signs Shopify webhooks (X-Shopify-Hmac-SHA256); "
        "unset, /webhooks/shopify answers 503"
    )
    woocommerce_webhook_secret: SecretStr | None = Field(
        default=None,
        description="The secret set on the WooCommerce webhooks (X-WC-Webhook-Signature); "
        "unset, /webhooks/woocommerce answers 503"
    )
    consent_text_version: str | None = Field(
        default=None, description="The version of the consent wording the preference page shows"
    )

    # escalation and the store's own models (docs/escalation.md, docs/intelligence.md)
    escalation_rules_file: str | None = Field(
        default=None,
        description="A YAML file of the store's global escalation rules; unset, only journeys' own hold",
    )
    models_dir: str = Field(default="./var/models", description="Where `onboardflow model train` keeps them")
    sentiment: Literal["auto", "vader", "trained", "off"] = Field(
        default="auto",
        description="How ticket and review text is scored: auto (the trained model if there is one, else "
        "VADER, English), vader, trained, or off",
    )
    recommendations: int = Field(
        default=4, ge=1, le=20, description="How many products a template's `recommendations` holds"
    )
    helpdesk: Literal["none", "webhook", "zendesk"] = Field(
        default="none",
        description="Where workers hand tasks over: a signed webhook, a Zendesk-compatible ticket API",
    )
    helpdesk_url: str | None = Field(default=None, description="helpdesk=webhook: where tasks are POSTed")
    helpdesk_secret: SecretStr | None = Field(
        default=None,
        description="A Standard Webhooks secret (whsec_...): signs the tasks sent to helpdesk_url and checks "
        "the resolutions the helpdesk sends to /webhooks/helpdesk",
    )
    zendesk_url: str | None = Field(default=None, description="For zendesk: https://acme.zendesk.com")
    zendesk_email: str | None = Field(default=None, description="The agent the API token belongs to")
    zendesk_api_token: SecretStr | None = Field(default=None, description="A Zendesk API token")
    zendesk_webhook_secret: SecretStr | None = Field(
        default=None, description="The signing secret of the Zendesk webhook that posts to /webhooks/zendesk"
    )
    # outbound webhooks (docs/outbound-webhooks.md)
    outbound_webhooks_allow_private: bool = Field(
        default=False,
        description="Deliver outbound webhooks to private, loopback and link-local addresses too (your own "
        "network); off, such deliveries fail with a reason that names the address",
    )
    outbound_webhooks_timeout: float = Field(
        default=15.0, gt=0, le=60,
        description="Seconds an endpoint has to answer one outbound webhook in full",
    )
    outbound_webhooks_rotation_grace_hours: float = Field(
        default=24.0, ge=0, le=24 * 30,
        description="Hours a rotated outbound webhook secret still signs deliveries (beside the new one), so "
        "receivers can move to the new secret meanwhile; 0 stops the old one at once",
    )

    # outcomes (docs/outcomes.md)
    report_schedule: str | None = Field(
        default=None,
        description='When workers send the weekly report to the journeys\' owners, e.g. "mon 08:00" in the '
        "store's time zone (ONBOARDFLOW_STORE_TIMEZONE); unset, only `onboardflow report weekly` makes it",
    )
    reports_dir: str = Field(default="./var/reports", description="Where scheduled reports are written")
    signup_origins: list[str] = Field(
        default_factory=list,
        description="The storefront origins (https://shop.example) whose pages may post the signup form to "
        "/v1/signups (CORS)",
    )

    # the web UI (docs/web.md)
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs the web UI's session cookies; unset, one is generated and kept in "
        "secret_key_file, so sessions outlive a restart",
    )
    secret_key_file: str = Field(
        default="./var/secret_key", description="Where the generated web session key is kept (mode 0600)"
    )

    @field_validator("unsubscribe_secret", "admin_token", "secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"must be at least {MIN_SECRET_LENGTH} characters; make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return value
