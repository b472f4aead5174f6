CREATE PROCEDURE dbo.P @a int = 1, @b nvarchar(10) = NULL AS SELECT @a, @b
GO
EXEC dbo.P @a = 2, @b = N'z'