"""The simplejwt reference's settings with 100-year token lifetimes.

Used only by scripts/record-simplejwt-interop.mjs, so tokens that the real simplejwt mints
stay valid in the recording and the issuer's tests can verify them at any later date.
"""
from datetime import timedelta

from refsite.settings import *  # noqa: F401,F403
from refsite.settings import SIMPLE_JWT

CENTURY = timedelta(days=36500)
SIMPLE_JWT = {
    **SIMPLE_JWT,
    "ACCESS_TOKEN_LIFETIME": CENTURY,
    "REFRESH_TOKEN_LIFETIME": CENTURY,
    "SLIDING_TOKEN_LIFETIME": CENTURY,
    "SLIDING_TOKEN_REFRESH_LIFETIME": CENTURY,
}
