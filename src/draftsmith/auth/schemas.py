from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from draftsmith.schemas import InputModel

# Long enough for any policy message, short enough that a huge password is refused before hashing.
PasswordField = Field(min_length=1, max_length=1024)


class RegisterIn(InputModel):
    email: EmailStr
    password: str = PasswordField
    display_name: str | None = Field(None, max_length=120)


class LoginIn(InputModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = PasswordField


class RefreshIn(InputModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class ChangePasswordIn(InputModel):
    current_password: str = PasswordField
    new_password: str = PasswordField


class DeleteAccountIn(InputModel):
    password: str = PasswordField


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    display_name: str | None
    created_at: datetime
