"""Minting StackOne connect-session tokens for the Hub, owned by the authenticated employer only."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from chalicelib.clients.stackone.errors import (
    StackOneAuthError,
    StackOneBadRequestError,
    StackOneForbiddenError,
)
from chalicelib.clients.stackone.models import ConnectSession, ConnectSessionCreate, LinkedAccount
from chalicelib.clock import Clock, utcnow
from chalicelib.errors import InvalidRequestError, UpstreamError
from chalicelib.models.employer_api import ConnectSessionRequest, ConnectSessionResponse
from chalicelib.observability import logger
from chalicelib.services.accounts import platform_error
from chalicelib.services.employers import Employer


class ConnectSessionsGateway(Protocol):
    def create_connect_session(self, request: ConnectSessionCreate) -> ConnectSession: ...


class EmployerDirectory(Protocol):
    def get(self, employer_id: str) -> Employer: ...


class AccountOwnership(Protocol):
    def owned_account(self, employer_id: str, account_id: str) -> LinkedAccount: ...


class ConnectSessionService:
    """Builds the StackOne request from the employer's identity; the body only picks provider/account."""

    def __init__(
        self,
        stackone: ConnectSessionsGateway,
        employers: EmployerDirectory,
        accounts: AccountOwnership,
        *,
        allowed_providers: list[str],
        expires_in_seconds: int,
        now: Clock = utcnow,
    ) -> None:
        self._stackone = stackone
        self._employers = employers
        self._accounts = accounts
        self._allowed_providers = [provider.lower() for provider in allowed_providers]
        self._expires_in = expires_in_seconds
        self._now = now

    def create(self, employer_id: str, request: ConnectSessionRequest) -> ConnectSessionResponse:
        """Mint a session; with `account_id` the Hub opens that (own) account in edit mode to re-link."""
        provider = request.provider.lower() if request.provider else None
        if provider is not None and provider not in self._allowed_providers:
            raise InvalidRequestError(
                f"Provider {provider!r} is not offered; choose one of: {', '.join(self._allowed_providers)}.",
                code="provider_not_allowed",
                fields={"provider": "not an offered ATS provider"},
            )
        employer = self._employers.get(employer_id)
        if request.account_id is not None:
            account = self._accounts.owned_account(employer_id, request.account_id)
            if provider is not None and provider != account.provider.lower():
                raise InvalidRequestError(
                    f"Account {account.id} is a {account.provider} account, not {provider}.",
                    code="provider_mismatch",
                    fields={"provider": "does not match the account's provider"},
                )
            provider = account.provider
        body = ConnectSessionCreate(
            origin_owner_id=employer.employer_id,
            origin_owner_name=employer.name,
            categories=["ats"],
            provider=provider,
            account_id=request.account_id,
            label=request.label,
            expires_in=self._expires_in,
        )
        # The expiry is counted on our own clock, read before the call (in whole seconds, rounded down):
        # StackOne starts the token's lifetime no earlier than it receives the request, and its
        # `created_at` (another clock, which can lag or be stale) never moves the expiry into the past.
        requested_at = self._now().replace(microsecond=0)
        try:
            session = self._stackone.create_connect_session(body)
        except (StackOneAuthError, StackOneForbiddenError) as exc:
            raise platform_error() from exc
        except StackOneBadRequestError as exc:
            raise UpstreamError(
                "StackOne refused to open a connect session (is the provider enabled for the board?).",
                code="stackone_rejected_session",
            ) from exc
        # Never log the token or the auth link (it embeds a token).
        logger.info(
            "connect session minted",
            extra={"employer_id": employer_id, "provider": provider, "edit_mode": bool(request.account_id)},
        )
        return ConnectSessionResponse(
            token=session.token,
            auth_link_url=session.auth_link_url,
            expires_at=requested_at + timedelta(seconds=self._expires_in),
        )
