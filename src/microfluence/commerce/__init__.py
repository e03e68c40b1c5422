"""Commerce: the brand's shops (Shopify, WooCommerce), their orders and refunds (webhooks and
CSV exports), codes created in a shop through its Admin API, and the attribution of each order
to a creator (a code, else a click)."""
