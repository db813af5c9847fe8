"""scikit-learn models: late-payment risk and customer personas."""
