"""cohortlab.match"""
