"""The lab control plane for real: one cluster with a real node for every module here, brought up
by the first test that needs it and stopped after the last (the upgrade to the next release runs
last, as its module's name sorts)."""
