"""Writes for rules. `lifecycle`: create/edit/approve/reject/retire and the counters decisions feed;
`backtest`: what a rule would do to history; `promotion`: proposing rules from confirmed history;
`transfer`: YAML import and export."""
