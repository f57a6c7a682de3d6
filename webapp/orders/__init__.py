"""Orders: the order form (fields, labels, messages), what a valid form sends (`OrderForm.order`,
`order.build_params`), its summary, and how phones, prices and pasted details are read. The order
page's views hand a finished order to `attempts`."""

from webapp.orders.order import build_params, summarize

__all__ = ["build_params", "summarize"]
