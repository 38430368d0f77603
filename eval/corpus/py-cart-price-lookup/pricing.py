"""List prices and currency conversion for the storefront."""
import re
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

SKU_RE = re.compile(r"^[A-Z]{2,4}-\d{3,5}$")

_CATALOG_EUR = {
    "KB-101": Decimal("89.00"),     # mechanical keyboard
    "MS-220": Decimal("39.90"),     # wireless mouse
    "HB-305": Decimal("54.50"),     # USB-C hub
    "MON-2701": Decimal("329.00"),  # 27" monitor
    "CBL-010": Decimal("9.90"),     # USB-C cable
}
_FX_FROM_EUR = {"EUR": Decimal("1"), "USD": Decimal("1.0850"), "GBP": Decimal("0.8470"), "SEK": Decimal("11.420")}
VAT = {"EUR": Decimal("0.21"), "USD": Decimal("0"), "GBP": Decimal("0.20"), "SEK": Decimal("0.25")}


def valid_sku(sku):
    return isinstance(sku, str) and bool(SKU_RE.match(sku))


@lru_cache(maxsize=512)
def unit_price(sku, currency):
    """Price of one unit in `currency`, rounded to cents. Pure: depends only on its arguments."""
    base = _CATALOG_EUR[sku]
    rate = _FX_FROM_EUR[currency]
    return (base * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
