"""The alarm simulator: does one event a metric filter counts bring a CloudWatch alarm to ALARM?"""
