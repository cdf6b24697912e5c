"""cohortlab.data"""
