"""Price book for self-serve quotes (list prices in USD)."""
from decimal import Decimal

PRICE_BOOK = {
    "PRO-SEAT": {"name": "Pro seat (annual)", "unit_price": Decimal("180.00")},
    "ENT-SEAT": {"name": "Enterprise seat (annual)", "unit_price": Decimal("420.00")},
    "SSO-ADDON": {"name": "SSO add-on", "unit_price": Decimal("1200.00")},
    "SUPPORT-PLUS": {"name": "Premium support", "unit_price": Decimal("2400.00")},
}

COUPONS = {"SPRING24": Decimal("0.10"), "NONPROFIT": Decimal("0.25")}
