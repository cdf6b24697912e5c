"""cohortlab.cli"""
