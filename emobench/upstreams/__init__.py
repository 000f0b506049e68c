"""Speech encoders behind one contract (``base.Upstream``); backends import their heavy deps lazily."""
