"""What every room may use and that knows nothing of hot desking: the shape of management
commands (`commands`) and logging an outage once (`outages`). It imports no app of ours."""
