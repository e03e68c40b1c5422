"""Measurement: KPIs per creator (deal), per campaign and per day — clicks, orders, revenue,
cost, ROI, ROAS, CPA, CPC, CPE, CPM, EMV — compared to the campaign's targets, with intervals
where counts are small, and the commission and fees owed per creator for a period (payouts).

Built on the stored deals, clicks (tracking), attributed orders and refunds (commerce) and the
deliverables' posts; every figure is a SQL group-by or a Polars expression over groups
(docs/measurement.md has each formula and its source)."""
