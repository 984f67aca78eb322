"""Collaborative filtering: co-like neighbours and ALS factors learnt from ratings."""
