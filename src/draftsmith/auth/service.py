"""Accounts and sign-in sessions: the rules, independent of HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.auth import passwords, tokens
from draftsmith.auth.live import LiveSessions
from draftsmith.auth.models import RefreshFamily, RefreshToken, User
from draftsmith.auth.ratelimit import LoginLimiter
from draftsmith.config import Settings
from draftsmith.db import utcnow
from draftsmith.errors import ApiError

# A refresh token rotated this recently was most likely raced by a parallel
# request of the same client, not stolen: refuse it without revoking the family.
RACE_GRACE = timedelta(seconds=5)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str
    access: tokens.AccessClaims


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def user_by_email(db: AsyncSession, email: str) -> User | None:
    return await db.scalar(select(User).where(User.email == normalise_email(email)))


async def account_row(db: AsyncSession, user_id: str) -> User:
    """The caller's ``User`` row in this session, to change it (the caller is a snapshot)."""
    user = await db.get(User, user_id)
    if user is None:  # deleted since the request was authenticated
        raise ApiError(401, "token_revoked", "This session has been signed out.")
    return user


async def create_user(
    db: AsyncSession, email: str, password: str, display_name: str | None = None
) -> User:
    email = normalise_email(email)
    try:
        passwords.check_policy(password, email)
    except passwords.WeakPassword as exc:
        raise ApiError(422, "weak_password", str(exc)) from exc
    if await user_by_email(db, email) is not None:
        raise ApiError(409, "email_taken", "An account with this email already exists.")
    user = User(
        email=email,
        display_name=(display_name or "").strip() or None,
        password_hash=await passwords.hash_password(password),
    )
    db.add(user)
    try:
        await db.commit()
    except IntegrityError as exc:  # a concurrent registration won
        await db.rollback()
        raise ApiError(409, "email_taken", "An account with this email already exists.") from exc
    return user


def refuse_nul(*values: str) -> None:
    """Form fields bypass the body models' check; no database stores a NUL character."""
    if any("\x00" in value for value in values):
        raise ApiError(422, "invalid_characters", "The form contains a NUL character.")


async def sign_in(
    db: AsyncSession,
    settings: Settings,
    limiter: LoginLimiter,
    email: str,
    password: str,
    address: str,
) -> TokenPair:
    """Rate-limited credential check shared by the JSON, OAuth2-form and browser sign-ins."""
    refuse_nul(email, password)
    email = normalise_email(email)
    await limiter.check(email, address)
    user = await authenticate(db, email, password)
    if user is None:
        await limiter.failed(email, address)
        raise ApiError(401, "invalid_credentials", "Wrong email or password.")
    if user.disabled_at is not None:  # said only to someone who knows the password
        raise ApiError(
            403, "account_disabled", "This account has been disabled; ask an administrator."
        )
    return await start_session(db, settings, user)


async def register_account(
    db: AsyncSession,
    settings: Settings,
    limiter: LoginLimiter,
    email: str,
    password: str,
    display_name: str | None,
    address: str,
) -> User:
    """Open-registration and rate-limit checks shared by the API and the browser form."""
    refuse_nul(email, password, display_name or "")
    if not settings.open_registration:
        raise ApiError(403, "registration_closed", "Registration is closed; ask an administrator.")
    await limiter.check_registration(address)
    return await create_user(db, email, password, display_name)


def live_sessions(db: AsyncSession) -> LiveSessions | None:
    """The process's memory of live sessions, configured on the session factory (app, CLI)."""
    return db.info.get("live_sessions")


async def _forget(db: AsyncSession, user_id: str) -> None:
    """After a revocation commits: every process forgets the user's remembered sessions."""
    sessions = live_sessions(db)
    if sessions is not None:
        await sessions.revoked(user_id)


async def _deny(db: AsyncSession, access: tokens.AccessClaims | None) -> None:
    sessions = live_sessions(db)
    if access is not None and sessions is not None:
        await sessions.deny(access.jti, access.expires_at)


async def sign_out(
    db: AsyncSession, user_id: str, session_id: str, access: tokens.AccessClaims | None
) -> None:
    """Revoke the sign-in session (its tokens are refused on the next request, in every
    process) and, with Redis, denylist the access token in use."""
    await revoke_family(db, user_id, session_id, "logout")
    await _deny(db, access)


async def sign_out_everywhere(
    db: AsyncSession, user_id: str, access: tokens.AccessClaims | None
) -> None:
    """Revoke every sign-in session of the user; their access tokens stop working at once."""
    await revoke_other_families(db, user_id, None, "logout_all")
    await _deny(db, access)


async def confirm_password(limiter: LoginLimiter, user: User, password: str, address: str) -> None:
    """Check the signed-in user's password before an irreversible change; failures count
    against the sign-in limits, so a stolen access token is no way to guess the password."""
    await limiter.check(user.email, address)
    valid, _ = await passwords.verify_password(password, user.password_hash)
    if not valid:
        await limiter.failed(user.email, address)
        raise ApiError(403, "wrong_password", "The password is not correct.")


async def delete_user(db: AsyncSession, user_id: str) -> None:
    """Delete the user's row; the database cascades to everything they own (documents,
    chunks, sessions, blogs, revisions, events, sign-in sessions and refresh tokens).
    Their files on disk are the caller's to remove (the documents layer knows where)."""
    await db.execute(delete(User).where(User.id == user_id))
    await db.commit()
    await _forget(db, user_id)


async def set_disabled(db: AsyncSession, user: User, disabled: bool) -> None:
    """Disable (every session revoked at once) or re-enable an account."""
    user.disabled_at = utcnow() if disabled else None
    await db.commit()
    if disabled:
        await revoke_other_families(db, user.id, None, "disabled")


async def list_users(db: AsyncSession) -> list[tuple[User, int]]:
    """Every user with their number of live sign-in sessions, oldest account first."""
    live = (
        select(RefreshFamily.user_id, func.count().label("sessions"))
        .where(RefreshFamily.revoked_at.is_(None), RefreshFamily.expires_at > utcnow())
        .group_by(RefreshFamily.user_id)
        .subquery()
    )
    rows = await db.execute(
        select(User, func.coalesce(live.c.sessions, 0))
        .outerjoin(live, live.c.user_id == User.id)
        .order_by(User.created_at, User.email)
    )
    return [(user, count) for user, count in rows.all()]


async def authenticate(db: AsyncSession, email: str, password: str) -> User | None:
    """The user for these credentials, or None; unknown emails cost a full hash check."""
    user = await user_by_email(db, email)
    valid, new_hash = await passwords.verify_password(
        password, user.password_hash if user else None
    )
    if not valid or user is None:
        return None
    if new_hash is not None:
        user.password_hash = new_hash
        await db.commit()
    return user


def _pair(settings: Settings, user_id: str, family_id: str, refresh: str) -> TokenPair:
    access, claims = tokens.issue_access_token(
        settings.secret(), user_id, family_id, settings.access_token_ttl_s
    )
    return TokenPair(access, refresh, settings.access_token_ttl_s, family_id, claims)


async def start_session(db: AsyncSession, settings: Settings, user: User) -> TokenPair:
    family = RefreshFamily(
        user_id=user.id, expires_at=utcnow() + timedelta(days=settings.refresh_family_ttl_days)
    )
    db.add(family)
    await db.flush()
    raw, hashed = tokens.new_refresh_token()
    db.add(RefreshToken(family_id=family.id, token_hash=hashed))
    await db.commit()
    return _pair(settings, user.id, family.id, raw)


class RefreshRaced(Exception):
    """The token was rotated moments ago by a parallel request of the same client."""

    def __init__(self, user_id: str, session_id: str) -> None:
        super().__init__("refresh token rotated moments ago")
        self.user_id = user_id
        self.session_id = session_id


async def rotate(db: AsyncSession, settings: Settings, raw: str) -> TokenPair:
    """Exchange a refresh token for a new pair; reuse of a rotated token revokes its family."""
    invalid = ApiError(401, "invalid_refresh_token", "The refresh token is not valid.")
    row = (
        await db.execute(
            select(RefreshToken, RefreshFamily)
            .join(RefreshFamily, RefreshFamily.id == RefreshToken.family_id)
            .where(RefreshToken.token_hash == tokens.hash_refresh_token(raw))
        )
    ).first()
    if row is None:
        raise invalid
    token, family = row
    token_id, family_id, user_id = token.id, family.id, family.user_id
    now = utcnow()
    if family.revoked_at is not None:
        raise ApiError(401, "token_revoked", "This session has been signed out.")
    if family.expires_at <= now:
        raise ApiError(401, "session_expired", "This session has expired; sign in again.")
    claimed = await db.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token_id, RefreshToken.rotated_at.is_(None))
        .values(rotated_at=now)
    )
    if claimed.rowcount != 1:
        await db.rollback()
        rotated_at = await db.scalar(
            select(RefreshToken.rotated_at).where(RefreshToken.id == token_id)
        )
        if rotated_at is not None and now - rotated_at < RACE_GRACE:
            raise RefreshRaced(user_id, family_id)
        await revoke_family(db, user_id, family_id, "reuse")
        raise ApiError(
            401,
            "token_reused",
            "This refresh token was already used; the session has been revoked.",
        )
    new_raw, new_hash = tokens.new_refresh_token()
    db.add(RefreshToken(family_id=family_id, token_hash=new_hash))
    await db.commit()
    return _pair(settings, user_id, family_id, new_raw)


async def revoke_family(db: AsyncSession, user_id: str, family_id: str, reason: str) -> None:
    await db.execute(
        update(RefreshFamily)
        .where(RefreshFamily.id == family_id, RefreshFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    await db.commit()
    await _forget(db, user_id)


async def revoke_other_families(
    db: AsyncSession, user_id: str, keep: str | None, reason: str
) -> None:
    query = update(RefreshFamily).where(
        RefreshFamily.user_id == user_id, RefreshFamily.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(RefreshFamily.id != keep)
    await db.execute(query.values(revoked_at=utcnow(), revoked_reason=reason))
    await db.commit()
    await _forget(db, user_id)


async def change_password(
    db: AsyncSession, user: User, current: str, new: str, keep_session: str | None
) -> None:
    valid, _ = await passwords.verify_password(current, user.password_hash)
    if not valid:
        raise ApiError(400, "wrong_password", "The current password is not correct.")
    try:
        passwords.check_policy(new, user.email)
    except passwords.WeakPassword as exc:
        raise ApiError(422, "weak_password", str(exc)) from exc
    await set_password(db, user, new)
    await revoke_other_families(db, user.id, keep_session, "password_changed")


async def set_password(db: AsyncSession, user: User, new: str) -> None:
    user.password_hash = await passwords.hash_password(new)
    user.password_changed_at = utcnow()
    await db.commit()
