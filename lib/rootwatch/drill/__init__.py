"""Fire drill (``rootwatch drill``): prove that the root-usage chain really alerts today by writing one
synthetic, marked root record (``record``) into the trail's log group and watching it through filter,
metric, alarm, action and (optionally) a probe subscriber, each step timestamped into a signed bundle
(``run``). Opt-in: nothing else in rootwatch ever calls it."""
