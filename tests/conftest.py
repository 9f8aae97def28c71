# Scenario files used as test data are run by the tests themselves, not collected as tests.
collect_ignore_glob = ["data/*", "data/**/*"]
