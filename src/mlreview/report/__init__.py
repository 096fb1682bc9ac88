"""The scorecard (reproduced numbers against the review's) and the HTML report."""
