"""cohortlab.report"""
