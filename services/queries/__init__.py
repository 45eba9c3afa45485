"""Read-side queries: listings, reports, diagrams, contact points."""
