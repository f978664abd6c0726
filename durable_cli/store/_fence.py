"""The fence table: the lease token each live runner's writes must find (embedded store).

A runner's lease is its `rn/` row in diskcache's `Cache` table, but the token that fences its
writes lives in a small table of its own. The group commit's fenced upsert is an
`INSERT INTO Cache ... SELECT ... WHERE EXISTS (token still mine)`; were the token read from
`Cache` itself, SQLite would have to stage every batch in a temporary table first (an INSERT
whose SELECT reads the table it inserts into), which made each journaled step markedly dearer
than the plain insert it was before leases. Read from another table, the check is one index
lookup and the insert goes straight in.

The table is created by the first runner on a state dir; an older durable never reads it. Its
rows change only together with the `rn/` rows they mirror, in the same transaction.
"""

from __future__ import annotations

__all__ = ["CREATE", "DROP", "EXISTS", "HOLDS", "SET"]

CREATE = (
    "CREATE TABLE IF NOT EXISTS DurableFence (key TEXT PRIMARY KEY, token TEXT NOT NULL)"
    " WITHOUT ROWID"
)
HOLDS = "SELECT 1 FROM DurableFence WHERE key = ? AND token = ?"
EXISTS = " WHERE EXISTS (SELECT 1 FROM DurableFence WHERE key = ? AND token = ?)"
SET = "INSERT OR REPLACE INTO DurableFence (key, token) VALUES (?, ?)"
DROP = "DELETE FROM DurableFence WHERE key = ?"
