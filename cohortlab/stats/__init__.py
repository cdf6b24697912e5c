"""Statistics: bootstrap resampling, Kaplan–Meier, inference. numpy/scipy/statsmodels only."""
