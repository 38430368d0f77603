"""Plain-text receipt layout (the thermal printer bridge and the email both use it)."""
from decimal import Decimal

WIDTH = 42


def render(order_id, customer, lines, note):
    out = [f"{'NORTHWIND COFFEE':^{WIDTH}}", f"{'Order ' + order_id:^{WIDTH}}", "-" * WIDTH]
    total = Decimal("0")
    for line in lines:
        qty = int(line.get("qty", 1))
        price = Decimal(str(line.get("price", "0")))
        amount = price * qty
        total += amount
        label = f"{qty} x {line.get('desc', 'item')}"[: WIDTH - 10]
        out.append(f"{label:<{WIDTH - 10}}{amount:>10.2f}")
    out += ["-" * WIDTH, f"{'TOTAL':<{WIDTH - 10}}{total:>10.2f}", "", f"Customer: {customer}"]
    if note:
        out.append(str(note))
    return "\n".join(out) + "\n", total
