"""The demo data and the UCI Online Retail loader: history fed in through the services the way
production data arrives (an entry point, like the CLI that calls it)."""
