"""Settings for the ledger reconciliation job, read from the function's environment."""
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    db_host: str
    db_port: int
    db_name: str
    db_user: str
    db_password: str
    batch_size: int
    tolerance_cents: int
    region: str

    @classmethod
    def from_env(cls):
        return cls(
            db_host=os.environ["DB_HOST"],
            db_port=int(os.environ.get("DB_PORT", "5432")),
            db_name=os.environ.get("DB_NAME", "ledger"),
            db_user=os.environ["DB_USER"],
            db_password=os.environ["DB_PASSWORD"],
            batch_size=int(os.environ.get("BATCH_SIZE", "500")),
            tolerance_cents=int(os.environ.get("TOLERANCE_CENTS", "1")),
            region=os.environ.get("AWS_REGION", "us-east-1"),
        )
