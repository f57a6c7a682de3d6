"""Sandbox mode: `standin` answers like JustClick (API 2.0, the signed 1.0 reads, payment pages) from
an order book on disk; `views` shows its orders and payment pages inside the desk.
`python -m webapp.sandbox` runs it alone on a port."""
