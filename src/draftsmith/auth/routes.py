"""/api/v1/auth: register, sign in, refresh, sign out (here or everywhere), me, change
password, delete the account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.auth import cookies, service
from draftsmith.auth.access import public, router
from draftsmith.auth.deps import CurrentCaller, client_address, settings_of
from draftsmith.auth.schemas import (
    ChangePasswordIn,
    DeleteAccountIn,
    LoginIn,
    RefreshIn,
    RegisterIn,
    TokenOut,
    UserOut,
)
from draftsmith.db import Db
from draftsmith.errors import ApiError

routes = router(prefix="/api/v1/auth", tags=["auth"])

BUSY = {503: {"description": "Too many password checks at once (`busy`, with `Retry-After`)."}}


def _token_out(pair: service.TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


async def _sign_in(request: Request, db: AsyncSession, email: str, password: str) -> TokenOut:
    limiter = request.app.state.login_limiter
    address = client_address(request)
    pair = await service.sign_in(db, settings_of(request), limiter, email, password, address)
    return _token_out(pair)


@routes.post(
    "/register",
    status_code=201,
    response_model=UserOut,
    responses={409: {}, 403: {}, 429: {}, **BUSY},
)
@public
async def register(body: RegisterIn, request: Request, db: Db):
    """Create an account.

    The password needs at least 12 characters and must not be a common one. 409 `email_taken` if the
    email is registered; 403 when registration is closed."""
    limiter = request.app.state.login_limiter
    return await service.register_account(
        db,
        settings_of(request),
        limiter,
        body.email,
        body.password,
        body.display_name,
        client_address(request),
    )


@routes.post("/login", response_model=TokenOut, responses={401: {}, 403: {}, 429: {}, **BUSY})
@public
async def login(body: LoginIn, request: Request, db: Db):
    """Sign in with email and password.

    Answers a short-lived access token (send it as `Authorization: Bearer`) and a refresh token.
    Repeated failures are slowed down (429 with `Retry-After`)."""
    return await _sign_in(request, db, body.email, body.password)


@routes.post("/token", response_model=TokenOut, responses={401: {}, 403: {}, 429: {}, **BUSY})
@public
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, db: Db):
    """Sign in with the OAuth2 password form.

    The same as `/login` for the **Authorize** button of this page: `username` is the email."""
    return await _sign_in(request, db, form.username, form.password)


@routes.post("/refresh", response_model=TokenOut, responses={401: {}})
@public
async def refresh(body: RefreshIn, request: Request, db: Db):
    """Exchange a refresh token for a new token pair.

    Each refresh token works once; reusing an old one ends its whole sign-in session."""
    try:
        pair = await service.rotate(db, settings_of(request), body.refresh_token)
    except service.RefreshRaced as exc:
        raise ApiError(
            401, "refresh_conflict", "This refresh token was just used by another request."
        ) from exc
    return _token_out(pair)


@routes.post("/logout", status_code=204)
async def logout(caller: CurrentCaller, request: Request, db: Db):
    """Sign out.

    Ends the caller's sign-in session: its access and refresh tokens stop working at once."""
    await service.sign_out(db, caller.user.id, caller.session_id, caller.access)
    return cookies.signed_out(request, Response(status_code=204))


@routes.post("/logout-all", status_code=204)
async def logout_all(caller: CurrentCaller, request: Request, db: Db):
    """Sign out everywhere.

    Ends every sign-in session of this account, this one included: every browser and app
    using it must sign in again."""
    await service.sign_out_everywhere(db, caller.user.id, caller.access)
    return cookies.signed_out(request, Response(status_code=204))


@routes.get("/me", response_model=UserOut)
async def me(caller: CurrentCaller):
    """The signed-in user.

    The account of the caller's token or session."""
    return caller.user


@routes.post("/password", status_code=204, responses={400: {}, 422: {}, **BUSY})
async def change_password(body: ChangePasswordIn, caller: CurrentCaller, db: Db):
    """Change the password.

    Needs the current password; every other sign-in session of the user is revoked."""
    user = await service.account_row(db, caller.user.id)
    await service.change_password(
        db, user, body.current_password, body.new_password, caller.session_id
    )
    return Response(status_code=204)


@routes.delete(
    "/me",
    status_code=204,
    responses={
        403: {"description": "The password is not correct (`wrong_password`), or CSRF failed."},
        429: {},
        **BUSY,
    },
)
async def delete_me(body: DeleteAccountIn, caller: CurrentCaller, request: Request, db: Db):
    """Delete this account.

    After confirming the password, deletes the account and everything it owns, files
    included; every token of the account stops working at once."""
    limiter = request.app.state.login_limiter
    user = await service.account_row(db, caller.user.id)
    await service.confirm_password(limiter, user, body.password, client_address(request))
    await service.delete_user(db, caller.user.id)  # its sessions go with it: tokens refused
    request.app.state.remove_user_files(caller.user.id)
    return cookies.signed_out(request, Response(status_code=204))
