"""The demo: Columbus's real resources enriched with seeded, labelled synthetic operations."""
