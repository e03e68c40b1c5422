"""Planning: prices per account and format, forecasts with intervals, the budget planner and
test-and-learn (docs/planning.md). Above discovery (it plans from shortlists), below the demo."""
