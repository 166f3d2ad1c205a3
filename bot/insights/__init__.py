"""What the helpline learns from its conversations: one summary row per conversation kept
current from the tracker store (summary), the review loop (review) and the measures a
helpline reports (measures)."""
