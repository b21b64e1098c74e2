"""The time-stepped simulation: threat kinematics, sensors, tracking, networks, engagements."""
