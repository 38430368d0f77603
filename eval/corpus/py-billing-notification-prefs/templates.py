"""Subject and body templates for billing notifications, per locale."""

TEMPLATES = {
    "en-US": {
        "invoice.paid": ("Invoice {invoice} paid", "We received your payment for invoice {invoice}. Thank you!"),
        "invoice.overdue": ("Invoice {invoice} is overdue", "Invoice {invoice} is past its due date. Please pay at your earliest convenience."),
        "card.expiring": ("Your card is about to expire", "The card on file expires soon. Update it to avoid interruptions."),
    },
    "de-DE": {
        "invoice.paid": ("Rechnung {invoice} bezahlt", "Wir haben Ihre Zahlung für Rechnung {invoice} erhalten. Vielen Dank!"),
        "invoice.overdue": ("Rechnung {invoice} ist überfällig", "Rechnung {invoice} ist überfällig. Bitte begleichen Sie sie zeitnah."),
        "card.expiring": ("Ihre Karte läuft bald ab", "Die hinterlegte Karte läuft bald ab. Bitte aktualisieren Sie sie."),
    },
}


def render(locale, event_type, **values):
    table = TEMPLATES.get(locale) or TEMPLATES["en-US"]
    subject, body = table[event_type]
    return subject.format(**values), body.format(**values)
