"""Availability zone profiles: /v2/lbaas/availabilityzoneprofiles (admin only)."""

from __future__ import annotations

from octavia.api.v2 import responses
from octavia.api.v2.profile_routes import profile_router
from octavia.domain.profiles import AVAILABILITY_ZONE_PROFILE

router = profile_router(
    AVAILABILITY_ZONE_PROFILE, path="availabilityzoneprofiles", key="availability_zone_profile",
    policy_prefix="availability-zone-profile", noun="availability zone profile",
    view=responses.AvailabilityZoneProfile, class_prefix="AvailabilityZoneProfile",
)
