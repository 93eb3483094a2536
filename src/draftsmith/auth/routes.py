"""/api/v1/auth: register, sign in, refresh, sign out, me, change password."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.auth import service
from draftsmith.auth.access import public, router
from draftsmith.auth.deps import Caller, CurrentCaller, settings_of
from draftsmith.auth.schemas import (
    ChangePasswordIn,
    LoginIn,
    RefreshIn,
    RegisterIn,
    TokenOut,
    UserOut,
)
from draftsmith.db import Db
from draftsmith.errors import ApiError

routes = router(prefix="/api/v1/auth", tags=["auth"])



def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def refuse_nul(*values: str) -> None:
    """Form fields bypass the body models' check; no database stores a NUL character."""
    if any("\x00" in value for value in values):
        raise ApiError(422, "invalid_characters", "The form contains a NUL character.")


def _token_out(pair: service.TokenPair) -> TokenOut:
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


async def sign_in(request: Request, db: AsyncSession, email: str, password: str) -> service.TokenPair:
    """Rate-limited credential check shared by the JSON, OAuth2-form and browser sign-ins."""
    refuse_nul(email, password)
    limiter = request.app.state.login_limiter
    email = service.normalise_email(email)
    await limiter.check(email, client_address(request))
    user = await service.authenticate(db, email, password)
    if user is None:
        await limiter.failed(email)
        raise ApiError(401, "invalid_credentials", "Wrong email or password.")
    return await service.start_session(db, settings_of(request), user)


async def register_account(request: Request, db: AsyncSession, email: str, password: str, display_name: str | None):
    """Open-registration and rate-limit checks shared by the API and the browser form."""
    refuse_nul(email, password, display_name or "")
    if not settings_of(request).open_registration:
        raise ApiError(403, "registration_closed", "Registration is closed; ask an administrator.")
    await request.app.state.login_limiter.check_registration(client_address(request))
    return await service.create_user(db, email, password, display_name)


@routes.post("/register", status_code=201, response_model=UserOut, responses={409: {}, 403: {}, 429: {}})
@public
async def register(body: RegisterIn, request: Request, db: Db):
    return await register_account(request, db, body.email, body.password, body.display_name)


@routes.post("/login", response_model=TokenOut, responses={401: {}, 429: {}})
@public
async def login(body: LoginIn, request: Request, db: Db):
    return _token_out(await sign_in(request, db, body.email, body.password))


@routes.post("/token", response_model=TokenOut, responses={401: {}, 429: {}})
@public
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, db: Db):
    """OAuth2 password flow (``username`` is the email), for the Authorize button of /docs."""
    return _token_out(await sign_in(request, db, form.username, form.password))


@routes.post("/refresh", response_model=TokenOut, responses={401: {}})
@public
async def refresh(body: RefreshIn, request: Request, db: Db):
    try:
        pair = await service.rotate(db, settings_of(request), body.refresh_token)
    except service.RefreshRaced as exc:
        raise ApiError(
            401, "refresh_conflict", "This refresh token was just used by another request."
        ) from exc
    return _token_out(pair)


async def sign_out(request: Request, db: AsyncSession, caller: Caller) -> None:
    """Revoke the caller's sign-in session and denylist the access token in use."""
    await service.revoke_family(db, caller.session_id, "logout")
    if caller.access is not None:
        await request.app.state.denylist.add(caller.access.jti, caller.access.expires_at)


@routes.post("/logout", status_code=204)
async def logout(caller: CurrentCaller, request: Request, db: Db):
    await sign_out(request, db, caller)
    return Response(status_code=204)


@routes.get("/me", response_model=UserOut)
async def me(caller: CurrentCaller):
    return caller.user


@routes.post("/password", status_code=204, responses={400: {}, 422: {}})
async def change_password(body: ChangePasswordIn, caller: CurrentCaller, db: Db):
    """Change the password; every other sign-in session of the user is revoked."""
    await service.change_password(db, caller.user, body.current_password, body.new_password, caller.session_id)
    return Response(status_code=204)
