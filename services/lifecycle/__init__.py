"""The one event path for every lifecycle record: store, fire, deadlines, history, audit."""
