"""Flavor profiles: /v2/lbaas/flavorprofiles (admin only)."""

from __future__ import annotations

from octavia.api.v2 import responses
from octavia.api.v2.profile_routes import profile_router
from octavia.domain.profiles import FLAVOR_PROFILE

router = profile_router(
    FLAVOR_PROFILE, path="flavorprofiles", key="flavorprofile", policy_prefix="flavor-profile",
    noun="flavor profile", view=responses.FlavorProfile, class_prefix="FlavorProfile",
)
