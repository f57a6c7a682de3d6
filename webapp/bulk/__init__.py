"""Many orders: a pasted or uploaded table read safely, its columns matched to order fields, each row
judged by the order form, then sent row by row through the same guard. Nothing imports this package
but the app factory and the templates' registry."""
