"""`make bench`: performance as ratios against baselines measured in the same run."""
