"""Attempts: one order's life once it is sent — the duplicate guard, the record before sending, the
single createorder call, the outcome kept (or journalled), the history, the invoice lookup and the
exports. `outcomes` names every outcome; `sending.send_order` is the way in."""

from webapp.attempts.outcomes import LOOKABLE, MADE, PENDING, RETRYABLE, UNRESOLVED, Outcome

__all__ = ["LOOKABLE", "MADE", "PENDING", "RETRYABLE", "UNRESOLVED", "Outcome"]
