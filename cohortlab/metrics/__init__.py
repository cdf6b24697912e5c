"""cohortlab.metrics"""
