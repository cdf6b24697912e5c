"""cohortlab.validate: `cohortlab validate`, `cohortlab schema` and `cohortlab init`."""
