"""The audit trail: a hash-chained log in the warehouse (`chain`), anchored by signed checkpoints kept
outside it (`checkpoints`), with every logged artifact kept under its content address (`artifacts`)."""

from beatwise.audit.chain import (
    GENESIS,
    TABLE,
    AuditRecord,
    Verification,
    append,
    canonical_json,
    config_digest,
    ensure_table,
    file_digest,
    record_hash,
    records,
    verify,
)

__all__ = [
    "GENESIS",
    "TABLE",
    "AuditRecord",
    "Verification",
    "append",
    "canonical_json",
    "config_digest",
    "ensure_table",
    "file_digest",
    "record_hash",
    "records",
    "verify",
]
