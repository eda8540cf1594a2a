print("semid")
