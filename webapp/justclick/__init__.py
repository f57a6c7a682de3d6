"""justclick"""
