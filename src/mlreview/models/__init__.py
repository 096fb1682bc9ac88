"""Models and algorithms: the computation behind each compute figure."""
