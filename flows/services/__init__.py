"""Use cases: plain typed functions the Prefect tasks call; they run and test without Prefect."""
