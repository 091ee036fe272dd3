print("lesson one")
